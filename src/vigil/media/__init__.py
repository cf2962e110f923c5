"""Safe reading of untrusted files: type sniffing, bounded image decode, archive
walking."""
