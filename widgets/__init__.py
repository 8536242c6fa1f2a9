"""Reusable Qt widgets for Luma Studio.

Widgets display data and report user gestures; they hold no business logic
(that lives in ``core``) and are wired to the engine by controllers in ``app``.
"""
