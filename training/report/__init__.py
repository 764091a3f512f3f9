"""What people read: Markdown tables, figures, the model card."""
