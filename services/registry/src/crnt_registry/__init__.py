"""The member registry of the network: centres, animators, EPCIs and the membership lifecycle."""
