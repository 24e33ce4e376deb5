"""Landmark index tables shared by detectors and masks (data only, no detector code).

Face indices are MediaPipe's canonical face mesh (468 points, 478 with iris refinement); "right" is
the subject's right eye (on the image's left in a frontal photo).
"""

from __future__ import annotations

#: (outer corner, inner corner, upper lid, lower lid) per eye
RIGHT_EYE = (33, 133, 159, 145)
LEFT_EYE = (263, 362, 386, 374)
#: eye outline rings (for eyes-only masks)
RIGHT_EYE_RING = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246)
LEFT_EYE_RING = (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466)
