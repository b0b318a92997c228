"""Deploy rehearsal: what ``make deploy-check`` verifies about template.yaml before it meets AWS."""
