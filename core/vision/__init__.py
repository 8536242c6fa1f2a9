"""Computer vision: models, detection, tracking, segmentation (no Qt)."""
