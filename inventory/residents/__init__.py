"""The residents' family emergency supplies checklist (家庭应急物资储备清单): content, public pages, PDF and posters."""
