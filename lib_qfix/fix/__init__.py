"""The host-agnostic fix loop: plan which regions to repaint, repaint through ports, keep the best.

See :mod:`lib_qfix.fix.loop` (the loop), :mod:`lib_qfix.fix.plan` (what to repaint, with which
prompts), :mod:`lib_qfix.fix.outcome` (records) and :mod:`lib_qfix.fix.infotext`.
"""
