"""Records: exports of the audit log for public-records requests."""
