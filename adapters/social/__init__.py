"""Social networks behind the SocialPort: X, the sandbox, and the images they carry."""
