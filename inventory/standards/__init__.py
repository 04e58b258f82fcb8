"""Standard lists (储备标准) and gap analysis (缺口分析): lists, versions, assignments, overrides, gap reports and their exports."""
