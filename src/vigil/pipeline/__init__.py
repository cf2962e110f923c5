"""The worker side of a scan: per-item stages over a subject, the records they
produce, the one config builder, and the engines that run them. Pure: it never
imports the store."""
