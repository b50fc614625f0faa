"""Links to the systems an office already runs: DGA's e-CMS letter exchange, a scanner's watch folder, e-mail."""
