"""ServerConfig never shows the API key (issue 12): not in repr, str, nor a traceback's locals."""

from __future__ import annotations

import dataclasses

from runtime.api.config import ServerConfig


def test_repr_hides_the_api_key_but_says_whether_one_is_set():
    config = ServerConfig(api_key="s3cret-key-value", port=9000)
    for text in (repr(config), str(config), f"{config}", repr([config])):
        assert "s3cret" not in text
        assert "api_key='***'" in text
    assert "port=9000" in repr(config)
    assert "api_key=None" in repr(ServerConfig())


def test_repr_still_lists_every_other_setting():
    config = ServerConfig(api_key="k", max_queue=3, cors_origins=("http://a.example",))
    text = repr(config)
    for field in dataclasses.fields(ServerConfig):
        assert f"{field.name}=" in text
    assert "max_queue=3" in text and "'http://a.example'" in text
    assert config.api_key == "k"  # hidden from view, not from the server
