"""Pure after-sales rules: no boto3, no I/O, plain data in and out."""
