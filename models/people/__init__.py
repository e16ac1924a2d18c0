"""The tenant's directory of people, as the auth-service's tokens describe them."""
