"""After-sales claims service: the shared package every Lambda handler imports."""
