"""Grades: the gradebook's items (one per quiz or assignment), each learner's grade for
them, the course's grading settings, and the certificates its completion earns."""
