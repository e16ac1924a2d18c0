"""Quizzes: quizzes on quiz lessons, their questions, learners' attempts and grading."""
