"""Live: the Pulumi engine through the Automation API, and AWS through boto3. Can change deployed resources."""
