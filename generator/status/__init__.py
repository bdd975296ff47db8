"""Working out status: what each component and the page are now, and the figures quoted about them."""
