"""Statistics, charts, reports, exports from assessments, and CyberTipline files."""
