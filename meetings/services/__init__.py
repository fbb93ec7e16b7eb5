"""Domain logic of the commissions; views stay thin and tests call these directly."""
