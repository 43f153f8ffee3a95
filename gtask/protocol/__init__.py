"""Steps that commit and push: claims, approval, attempts, reconcile, gate runs, imports."""
