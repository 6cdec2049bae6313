"""The budget service: the yearly budget, its financing plan and the shares of centres and EPCIs."""
