"""The office's user pages: saving accounts through the web form."""
from __future__ import annotations

from sqlalchemy import select

from inventory.core.db import db
from inventory.users.models import User


def test_admin_saves_a_user_with_an_e_mail(client, world, login):
    """The e-mail field is checked by WTForms' Email validator (email-validator package):
    a good address is saved on create and on edit, a bad one is refused in Chinese."""
    login(world["users"]["admin"])
    response = client.post("/admin/users/new", data={
        "username": "k-mail", "password": "long enough 1", "role": "keeper", "email": "keeper@example.org",
        "locations": [str(world["dep"].id)]})
    assert response.status_code == 302, response.data[:500]
    user = db.session.scalar(select(User).where(User.username == "k-mail"))
    assert user.email == "keeper@example.org"

    response = client.post(f"/admin/users/{user.id}", data={
        "display_name": "王保管", "email": "wang@example.org", "role": "keeper",
        "locations": [str(world["dep"].id)], "active": "y"})
    assert response.status_code == 302, response.data[:500]
    db.session.expire_all()
    assert (user.display_name, user.email) == ("王保管", "wang@example.org")

    response = client.post(f"/admin/users/{user.id}", data={
        "email": "not an address", "role": "keeper", "locations": [str(world["dep"].id)], "active": "y"})
    assert response.status_code == 422
    assert "请输入有效的电子邮件地址" in response.data.decode()
    db.session.expire_all()
    assert user.email == "wang@example.org"
