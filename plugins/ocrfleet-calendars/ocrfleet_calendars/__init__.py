"""Closing days as data for ocrfleet: public holidays and iCal feeds."""
