"""Tonight's data against the champion's: its profile, the contract that refuses a broken night, drift. Pure."""
