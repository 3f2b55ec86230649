"""Expert review: the queue, decisions under a quorum policy, withdrawals, submissions."""
