DROP TABLE orders.invoices;
