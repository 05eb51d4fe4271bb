"""Pure planners: validated specs in, lists of wire-form Kubernetes manifest dicts out."""
