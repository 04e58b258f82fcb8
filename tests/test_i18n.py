"""Every UI string has a Chinese translation; English is available on request."""
from inventory.web.i18n_catalog import (
    compile_catalogues,
    missing_messages,
    source_messages,
    translated_messages,
)


def test_every_ui_string_is_translated():
    assert len(source_messages()) > 200
    assert missing_messages() == []
    assert translated_messages()[1] == []


def test_chinese_by_default_and_english_on_request(client, world, login):
    compile_catalogues()
    login(world["users"]["keeper"])
    body = client.get("/dashboard").data.decode()
    assert "工作台" in body and "过期批次" in body
    body = client.get("/dashboard?lang=en").data.decode()
    assert "Dashboard" in body and "Expired batches" in body
    assert "Dashboard" in client.get("/locations").data.decode()  # remembered in the session
    client.get("/lang/zh_Hans_CN")
    assert "工作台" in client.get("/dashboard").data.decode()
