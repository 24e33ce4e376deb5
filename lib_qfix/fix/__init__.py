"""The host-agnostic fix loop: plan which regions to repaint, repaint through ports, keep the best.

See :mod:`lib_qfix.fix.loop` (the loop), :mod:`lib_qfix.fix.plan` (what to repaint, with which
prompts), :mod:`lib_qfix.fix.fidelity` (each repainted region judged on its own, with
:mod:`lib_qfix.fix.local_stats`), :mod:`lib_qfix.fix.merit` (the rules and weights of "keep the
best"), :mod:`lib_qfix.fix.outcome` (records) and :mod:`lib_qfix.fix.infotext`.
"""
