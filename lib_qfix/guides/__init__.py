"""Control images QFix renders from its own detections, for ControlNet units in the inner passes:
OpenPose hand skeletons (a plausible hand for a malformed one), OpenPose face keypoints, and the
OpenPose body skeleton from MediaPipe pose landmarks.

Pure core: numpy and OpenCV only, no host imports. Modules: :mod:`.hand_model` (the plausible hand),
:mod:`.face_keypoints` (mesh -> 70 points), :mod:`.draw` (ControlNet's OpenPose drawing style),
:mod:`.images` (region -> guide image), :mod:`.body` (pose -> body skeleton), :mod:`.preview`
(guides over each detection, for reports).
"""

from lib_qfix.guides.body import body_guide, body_keypoints
from lib_qfix.guides.hand_model import plausible_hand
from lib_qfix.guides.images import face_guide, face_points, hand_guide, hand_points

__all__ = ["body_guide", "body_keypoints", "face_guide", "face_points", "hand_guide", "hand_points",
           "plausible_hand"]
