"""Tasks the Celery broker could not take yet, kept until it can."""
