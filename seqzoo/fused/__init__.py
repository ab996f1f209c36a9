"""Whole-sequence kernels that run a standard cell faster than its step loop."""
