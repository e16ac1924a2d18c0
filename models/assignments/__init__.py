"""Assignments: course work learners submit (text and files, every version kept) and its grading."""
