"""`celery -A workers.app worker`: the Celery app configured from the environment."""

from models.settings import Settings
from workers.celery_app import make_celery

app = make_celery(Settings())
