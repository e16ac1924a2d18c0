"""Local stand-ins for the services the LMS talks to, so no test reaches the internet."""
