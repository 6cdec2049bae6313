"""The budget service: the yearly budget, its financing plan and the shares of centres and EPCIs.

The yearly budget of the network: the financing plan (the programme's actions, the network's
lines and the centres' dotations against the grants), the reste à charge each EPCI owes against
what its council voted, every version, recalculated on each membership change, validation and
progress report of the programme, and the budget annex (ODS, XLSX, PDF) of any version.
"""
