"""vsumhub: datasets and features for multimodal video summarization. The front door is the
``vsumhub`` command (:mod:`vsumhub.cli`)."""
