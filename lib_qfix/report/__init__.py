"""Reports people look at: overlays, HTML pages, JSON."""
