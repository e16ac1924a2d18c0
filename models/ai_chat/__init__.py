"""AI tutor: sessions, questions, and answers written by a model through the workers."""
