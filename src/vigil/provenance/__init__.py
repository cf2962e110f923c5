"""Evidence of where an image came from: C2PA, XMP, generator metadata, stealth
metadata, invisible watermarks and camera EXIF."""
