"""Office administration (管理): user accounts and the locations they work at, and the data import page. It sits above stock and users because it joins the two."""
