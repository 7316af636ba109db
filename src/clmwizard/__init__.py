"""clmwizard: from a DocuSign integration key to a working Power Automate CLM connector."""

__version__ = "0.1.0"
