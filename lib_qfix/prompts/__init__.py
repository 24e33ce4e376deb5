"""Prompt handling: A1111 attention syntax (:mod:`.attention`), the defect -> negative catalogue
(:mod:`.catalogue`) and merging weighted negatives into the user's negative (:mod:`.negatives`).

Submodules are imported on demand; this package imports nothing heavy.
"""
