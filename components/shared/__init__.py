"""Small AWS building blocks the machine layer and the application stacks share."""
