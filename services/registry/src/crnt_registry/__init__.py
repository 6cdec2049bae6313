"""The member registry of the network: centres, animators, EPCIs and the membership lifecycle.

The member registry of the network: centres (in the national standard standard-mediation-num),
their animators, the EPCIs, and the membership lifecycle pending → member | rejected, member ⇄
suspended, member | suspended → withdrawn.
"""
