"""The probe engine's rules, pure: what counts as a passing check, figures over many
checks, and the verdict. Shared by deployment verification and (later) uptime monitors."""
