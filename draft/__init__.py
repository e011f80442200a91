"""The article drafter: draft reports.csv rows from the text of a news story (see draft.extract)."""
