# jbuild test agent: shaped like the jennifer-python package.
__version__ = '0.0.1-jbuildtest'
