"""The study: config -> runs -> batches -> shards, the results tree, the training job, the plan."""
