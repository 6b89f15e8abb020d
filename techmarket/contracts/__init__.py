"""Technology contracts (技术合同): recording, payments and evidence, and the bureau's registration review."""
