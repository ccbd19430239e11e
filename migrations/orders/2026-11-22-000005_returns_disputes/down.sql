DROP TABLE orders.dispute_messages, orders.disputes, orders.return_lines, orders.returns;
